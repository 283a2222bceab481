"""Route constants."""

VISITOR = "/"
WIDGET = "/widget"  # the chat inside the iframe of /embed.js (assets/embed.js)
LOGIN = "/login"
AGENT_QUEUE = "/agent"
AGENT_CONVERSATION = "/agent/conversations/[conv_id]"


def agent_conversation(conversation_id: int | str) -> str:
    return f"/agent/conversations/{conversation_id}"


SETTINGS = "/settings"  # owner only
STAFF = "/staff"  # owner only: staff list and invites
ACCOUNT = "/account"  # every staff member: change their own password
INVITE = "/invite/[invite_token]"  # accept an invite (public, the token is the key)


def invite(token: str) -> str:
    return f"/invite/{token}"
