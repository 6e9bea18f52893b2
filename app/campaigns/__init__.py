"""Campaigns and their rules: calling windows, pacing settings, caller ID and messages, disposition and pause codes, and who may see which campaign."""
