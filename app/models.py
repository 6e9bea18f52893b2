"""Every model, imported in one place so migrations and the mapper see the whole schema."""
from app.agents.models import AgentProfile, AgentStateChange  # noqa: F401
from app.audit.models import AuditEntry  # noqa: F401
from app.auth.models import ApiToken, User  # noqa: F401
from app.calls.models import Call, CallEvent  # noqa: F401
from app.campaigns.models import Campaign, CampaignAssignment, DispositionCode, PauseCode  # noqa: F401
from app.campaigns.voicemail import VoicemailMessage  # noqa: F401
from app.compliance.models import BlackoutDay  # noqa: F401
from app.contacts.models import Consent, Contact  # noqa: F401
from app.imports.models import ImportJob, ImportRejection  # noqa: F401
from app.dnc.models import DncEntry, RegistryAreaCode, RegistryNumber  # noqa: F401
from app.interactions.models import Callback, Interaction, Voicemail  # noqa: F401
from app.kpi.models import KpiRollup, KpiRollupState  # noqa: F401
from app.outbound_hooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent  # noqa: F401,E501
from app.numbers.models import PhoneNumber, PoolNumber  # noqa: F401
from app.dialer.voicemail_models import VoicemailDrop  # noqa: F401
