"""Counsel's intake service (extra ``ftiscan[intake]``): see `ftiscan.reports.protocol`."""
