"""The shared kernel: base models, errors, pagination, throttling, base viewsets, exports."""
