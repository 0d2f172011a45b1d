"""Live sensing: the monitor loop, sweeping and band plans, the uplink to the desk, the rtl_tcp server, evidence keeping."""
