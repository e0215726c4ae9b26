# Create or update the third_party_auth provider record of the ai_tutor sign-in.
# Provider records are append-only: the newest record of a backend is the current one. An
# unchanged configuration adds nothing; a change adds one record carrying the new values.
import json

from common.djangoapps.third_party_auth.models import OAuth2ProviderConfig

wanted = {{ ai_tutor_idp.record|ai_tutor_python }}
wanted["other_settings"] = json.dumps(wanted["other_settings"], indent=4, sort_keys=True)
# With AI_TUTOR_OIDC_CLIENT_SECRET set, the secret lives in SOCIAL_AUTH_OAUTH_SECRETS and the
# record's own secret stays blank; without it, a secret entered in Django admin is kept.
secret_in_settings = {{ (AI_TUTOR_OIDC_CLIENT_SECRET != "")|ai_tutor_python }}

current = OAuth2ProviderConfig.current(wanted["backend_name"])
if secret_in_settings:
    wanted["secret"] = ""

differences = []
for name, value in wanted.items():
    stored = getattr(current, name)
    if name == "other_settings":
        try:
            stored, value = json.loads(stored or "{}"), json.loads(value)
        except ValueError:
            stored = None
    if stored != value:
        differences.append(name)

if current.pk is not None and not differences:
    print("ai-tutor: provider configuration %s is up to date" % wanted["backend_name"])
else:
    # A new record starts from the current one, so fields this task does not manage (site,
    # icon, ...) keep what an administrator set.
    record = current
    record.pk = None
    record.changed_by = None
    for name, value in wanted.items():
        setattr(record, name, value)
    record.save()
    print(
        "ai-tutor: provider configuration %s saved (changed: %s)"
        % (wanted["backend_name"], ", ".join(sorted(differences)))
    )
