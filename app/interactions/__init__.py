"""An agent's handling of a connected call: the screen pop, talk and wrap-up, dispositions, and the callbacks agents promise to contacts."""
