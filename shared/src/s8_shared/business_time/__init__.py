"""Business time: calendars with working windows, holidays and time zones (used by SLA clocks and analytics)."""
