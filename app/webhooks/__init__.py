"""Twilio's signed requests into Omnivox (/twilio/...): thin views above the dialer, whose
answer to a call they return; the carrier seam (app.telephony) knows no business rules."""
