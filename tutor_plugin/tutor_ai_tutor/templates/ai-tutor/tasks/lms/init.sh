{%- set ai_tutor_idp = ai_tutor_identity_provider() %}
{%- if ai_tutor_idp %}
echo {{ ("ai-tutor: sign-in through " ~ ai_tutor_idp.record["name"] ~ " (" ~ ai_tutor_idp.backend_name ~ ")")|ai_tutor_shell_quote }}
./manage.py lms shell -c "$(cat <<'AI_TUTOR_PROVIDER_RECORD'
{% include "ai-tutor/tasks/lms/provider_record.py.j2" %}
AI_TUTOR_PROVIDER_RECORD
)"
echo "ai-tutor: the redirect URI to register with the identity provider is {{ ai_tutor_idp.redirect_uri }}"
{%- else %}
echo "ai-tutor: AI_TUTOR_SSO is none, no identity provider to configure"
{%- endif %}
