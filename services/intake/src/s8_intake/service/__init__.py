"""Intake's application services, one per use case, each given the ports it needs once
(in `app.py`): accepting messages, agent actions, customers and the 360 view, survey
follow-ups, known problems, compensation, and publishing what they store."""
