"""Tasks on the `kpi` queue."""
