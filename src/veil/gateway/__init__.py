"""The egress gateway: the only component that sends anything to an AI endpoint."""
