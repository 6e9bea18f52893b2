"""The jurisdiction rule table as data (us.json), its strict loader, the holiday calendar it
computes, and the ZIP-prefix and area-code tables that place a callee in a state."""
