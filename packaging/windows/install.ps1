<#
.SYNOPSIS
  Install the ftiscan agent on Windows and register its boot-time scheduled task.

.DESCRIPTION
  1. Creates a Python virtual environment in -InstallDir and installs -Package into it.
  2. Creates C:\ProgramData\ftiscan (with state\ and keys\) readable and writable by
     SYSTEM and Administrators only: inheritance from C:\ProgramData is cut, so users
     can neither read the agent's keys and state nor plant a config.
  3. Copies the sample agent.yaml there if none exists (edit its roots first).
  4. Registers ftiscan-agent-task.xml as \ftiscan\ftiscan-agent (runs as SYSTEM at boot)
     and starts it.
  Run from an elevated PowerShell. Idempotent: running it again upgrades the package
  and re-registers the task, keeping config, keys and state.

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File install.ps1 -Package .\ftiscan-0.1.0-py3-none-any.whl
#>
[CmdletBinding()]
param(
    [string]$Package = "ftiscan",
    [string]$InstallDir = "C:\Program Files\ftiscan",
    [string]$Python = "py.exe",
    [string[]]$PythonArgs = @("-3.11")
)
Set-StrictMode -Version Latest
$ErrorActionPreference = "Stop"

$principal = [Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    throw "install.ps1 must run from an elevated (Administrator) PowerShell"
}

$here = Split-Path -Parent $MyInvocation.MyCommand.Path
$dataDir = Join-Path $env:ProgramData "ftiscan"
$exe = Join-Path $InstallDir "Scripts\ftiscan.exe"

# 1. The program, in its own virtual environment.
if (-not (Test-Path (Join-Path $InstallDir "Scripts\python.exe"))) {
    & $Python @PythonArgs -m venv $InstallDir
    if ($LASTEXITCODE -ne 0) { throw "python -m venv $InstallDir failed ($LASTEXITCODE)" }
}
& (Join-Path $InstallDir "Scripts\python.exe") -m pip install --upgrade $Package
if ($LASTEXITCODE -ne 0) { throw "pip install $Package failed ($LASTEXITCODE)" }

# 2. The data folder: SYSTEM and Administrators only, inherited by everything inside.
foreach ($dir in @($dataDir, (Join-Path $dataDir "state"), (Join-Path $dataDir "keys"))) {
    New-Item -ItemType Directory -Force -Path $dir | Out-Null
}
$acl = New-Object System.Security.AccessControl.DirectorySecurity
$acl.SetAccessRuleProtection($true, $false)   # no inherited rules, drop the old ones
$inherit = [System.Security.AccessControl.InheritanceFlags]"ContainerInherit, ObjectInherit"
$none = [System.Security.AccessControl.PropagationFlags]::None
foreach ($sid in @("S-1-5-18", "S-1-5-32-544")) {   # LocalSystem, BUILTIN\Administrators
    $who = New-Object System.Security.Principal.SecurityIdentifier($sid)
    $rule = New-Object System.Security.AccessControl.FileSystemAccessRule(
        $who, "FullControl", $inherit, $none, "Allow")
    $acl.AddAccessRule($rule)
}
$acl.SetOwner((New-Object System.Security.Principal.SecurityIdentifier("S-1-5-32-544")))
Set-Acl -Path $dataDir -AclObject $acl
# Children created earlier get the protected parent's rules again.
Get-ChildItem -Path $dataDir -Recurse -Force | ForEach-Object {
    $child = Get-Acl -Path $_.FullName
    $child.SetAccessRuleProtection($false, $false)
    foreach ($r in @($child.Access | Where-Object { -not $_.IsInherited })) {
        $child.RemoveAccessRuleSpecific($r)
    }
    Set-Acl -Path $_.FullName -AclObject $child
}

# 3. A config to start from.
$config = Join-Path $dataDir "agent.yaml"
if (-not (Test-Path $config)) {
    Copy-Item (Join-Path $here "..\agent.yaml") $config
    Write-Warning "copied the sample config to ${config}: set its roots (e.g. C:\Users) and intake"
}

# 4. The scheduled task, pointed at this -InstallDir.
[xml]$task = Get-Content -Raw -Encoding UTF8 (Join-Path $here "ftiscan-agent-task.xml")
$task.Task.Actions.Exec.Command = $exe
Register-ScheduledTask -TaskPath "\ftiscan\" -TaskName "ftiscan-agent" -Xml $task.OuterXml -Force | Out-Null
Start-ScheduledTask -TaskPath "\ftiscan\" -TaskName "ftiscan-agent"
Write-Host "ftiscan agent installed: $exe; task \ftiscan\ftiscan-agent started"
Write-Host "check: Get-ScheduledTaskInfo -TaskPath \ftiscan\ -TaskName ftiscan-agent"
