"""What differs per OS for the agent: process priority, battery, and user idle time.

Each function works on Linux, macOS and Windows, is safe to import on all three, and
answers ``None`` where the OS cannot tell cheaply (never by starting another program).

| | Linux | macOS | Windows |
| --- | --- | --- | --- |
| CPU priority | nice 10 | nice 10 | ``BELOW_NORMAL_PRIORITY_CLASS`` |
| I/O priority | ``IOPRIO_CLASS_IDLE`` | none (no API in psutil) | ``IOPRIO_VERYLOW`` |
| battery | ``psutil.sensors_battery`` | same | same |
| user idle | ``None`` (see below) | CoreGraphics | ``GetLastInputInfo`` |

Linux has no cheap, dependency-free way to learn the seat's last input (that needs
X11/Wayland or a D-Bus call to logind), so `user_idle_seconds` answers ``None`` there
and ``pause_when_user_active`` cannot take effect; the governor's stats say so. On
Windows a service runs in session 0, which never sees the user's input: there too the
answer is ``None`` rather than a wrong number.
"""

from __future__ import annotations

import ctypes
import sys

import psutil

__all__ = ["lower_priority", "on_battery", "user_idle_seconds"]

NICE = 10
"""The CPU niceness the agent runs at on POSIX systems (0 normal, 19 lowest)."""


def lower_priority() -> tuple[str, ...]:
    """Lower this process's CPU and I/O priority; say what was set, and what failed.

    Never raises the priority (a nicer value already set is kept). On Linux the setting
    is per thread and inherited: call this before starting threads or worker processes.
    """
    proc = psutil.Process()
    done: list[str] = []
    try:
        if sys.platform == "win32":
            if proc.nice() != psutil.IDLE_PRIORITY_CLASS:
                proc.nice(psutil.BELOW_NORMAL_PRIORITY_CLASS)
            done.append("cpu: below normal")
        else:
            proc.nice(max(proc.nice(), NICE))
            done.append(f"cpu: nice {proc.nice()}")
    except (psutil.Error, OSError) as exc:
        done.append(f"cpu: unchanged ({type(exc).__name__})")
    try:
        if sys.platform == "win32":
            proc.ionice(psutil.IOPRIO_VERYLOW)
            done.append("io: very low")
        elif sys.platform == "linux":
            proc.ionice(psutil.IOPRIO_CLASS_IDLE)
            done.append("io: idle")
        else:
            done.append("io: unchanged (no API)")
    except (psutil.Error, OSError) as exc:
        done.append(f"io: unchanged ({type(exc).__name__})")
    return tuple(done)


def on_battery() -> bool | None:
    """True on battery, False on mains power, None when there is no battery or no answer."""
    sensor = getattr(psutil, "sensors_battery", None)
    if sensor is None:
        return None
    try:
        battery = sensor()
    except (psutil.Error, OSError, RuntimeError, ValueError):
        return None
    if battery is None or battery.power_plugged is None:
        return None
    return not battery.power_plugged


def user_idle_seconds() -> float | None:
    """Seconds since the user last touched keyboard or mouse; None where unknown."""
    try:
        return _idle_seconds()
    except (OSError, AttributeError, ValueError):
        return None


if sys.platform == "win32":

    class _LastInputInfo(ctypes.Structure):
        _fields_ = [("cbSize", ctypes.c_uint), ("dwTime", ctypes.c_uint32)]

    def _idle_seconds() -> float | None:
        kernel32, user32 = ctypes.windll.kernel32, ctypes.windll.user32
        session = ctypes.c_uint32()
        if not kernel32.ProcessIdToSessionId(kernel32.GetCurrentProcessId(), ctypes.byref(session)):
            return None
        if session.value == 0:  # a service: session 0 sees no user input
            return None
        info = _LastInputInfo(cbSize=ctypes.sizeof(_LastInputInfo))
        if not user32.GetLastInputInfo(ctypes.byref(info)):
            return None
        kernel32.GetTickCount.restype = ctypes.c_uint32
        ticks = (kernel32.GetTickCount() - info.dwTime) & 0xFFFFFFFF  # wraps after 49.7 days
        return ticks / 1000.0

elif sys.platform == "darwin":
    _CORE_GRAPHICS = "/System/Library/Frameworks/CoreGraphics.framework/CoreGraphics"
    _COMBINED_SESSION_STATE = 0  # kCGEventSourceStateCombinedSessionState
    _ANY_INPUT_EVENT = 0xFFFFFFFF  # kCGAnyInputEventType

    def _idle_seconds() -> float | None:
        graphics = ctypes.CDLL(_CORE_GRAPHICS)
        since = graphics.CGEventSourceSecondsSinceLastEventType
        since.restype = ctypes.c_double
        since.argtypes = [ctypes.c_uint32, ctypes.c_uint32]
        seconds = float(since(_COMBINED_SESSION_STATE, _ANY_INPUT_EVENT))
        return seconds if seconds >= 0 else None

else:

    def _idle_seconds() -> float | None:
        return None  # Linux and others: no cheap answer (see the module docstring)
