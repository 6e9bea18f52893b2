"""The dialer: dial queues, the pacer and its tick, attempts at the moment of dialling, routing answered calls within 2 seconds, preview and manual dial, the reaper."""
