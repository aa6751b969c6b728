"""s8 channels: the platforms' own webhooks and mail in, delivery of s8's messages out."""
