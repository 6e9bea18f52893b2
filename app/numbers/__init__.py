"""The account's phone numbers: campaign pools, local presence at placement, and number health."""
