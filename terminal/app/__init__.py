"""The terminal app (`qr-terminal run`): built from configuration (compose), the session loop
(loop), and the effects of the session's commands (effects, charges, codes)."""
