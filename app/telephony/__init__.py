"""The seam to the voice carrier: nothing outside this package talks to Twilio.

``carrier`` holds the interface and its value types, ``twilio_carrier`` the
implementation on the twilio SDK, ``twiml`` the answers for voice webhooks.
"""
