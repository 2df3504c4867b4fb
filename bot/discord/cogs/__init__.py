"""One cog per feature of the Discord bot."""
