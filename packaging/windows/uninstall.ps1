<#
.SYNOPSIS
  Stop and remove the ftiscan agent's scheduled task and program.

.DESCRIPTION
  Stops and unregisters \ftiscan\ftiscan-agent and deletes -InstallDir. The data folder
  C:\ProgramData\ftiscan (config, agent key, state, unsent reports in the outbox) is kept
  unless -RemoveData is given: the agent key and chain are what counsel verifies
  earlier reports against, so delete them only when counsel agrees.

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File uninstall.ps1
  powershell -ExecutionPolicy Bypass -File uninstall.ps1 -RemoveData
#>
[CmdletBinding()]
param(
    [string]$InstallDir = "C:\Program Files\ftiscan",
    [switch]$RemoveData
)
Set-StrictMode -Version Latest
$ErrorActionPreference = "Stop"

$principal = [Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    throw "uninstall.ps1 must run from an elevated (Administrator) PowerShell"
}

$task = Get-ScheduledTask -TaskPath "\ftiscan\" -TaskName "ftiscan-agent" -ErrorAction SilentlyContinue
if ($task) {
    Stop-ScheduledTask -TaskPath "\ftiscan\" -TaskName "ftiscan-agent"
    Unregister-ScheduledTask -TaskPath "\ftiscan\" -TaskName "ftiscan-agent" -Confirm:$false
}
if (Test-Path $InstallDir) { Remove-Item -Recurse -Force $InstallDir }

$dataDir = Join-Path $env:ProgramData "ftiscan"
if ($RemoveData) {
    if (Test-Path $dataDir) { Remove-Item -Recurse -Force $dataDir }
    Write-Host "removed the task, $InstallDir and $dataDir"
} else {
    Write-Host "removed the task and $InstallDir; kept $dataDir (config, key, state, outbox)"
}
