"""The one dictionary and the CCSDS packet layer shared by flight and ground.

Pure: no I/O. Everything about the bytes on the link is defined here once (with Construct)
and every fast path is derived from that definition.
"""
