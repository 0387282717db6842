"""Licence-plate recognition as the application uses it: per-camera settings and snapshots
(administrators), recognitions (read by the worker, used by match lists), and the worker's
pipeline that hands frames to a process pool running imtui.lpr."""
