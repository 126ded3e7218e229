"""`coio-bench`: a load generator for any server speaking the coio protocol.

It waits for each connection's ``welcome!``, then sends payloads and verifies that every echo
is exactly their uppercase, in closed loop (each client waits for its echo) or open loop (a
fixed total rate), over one or several processes.
"""
