"""One dial attempt from placement to its end: the call record, the carrier state machine, the safe-harbour message, and the call-finished signal."""
