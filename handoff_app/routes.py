"""Route constants."""

VISITOR = "/"
LOGIN = "/login"
AGENT_QUEUE = "/agent"
AGENT_CONVERSATION = "/agent/conversations/[conv_id]"


def agent_conversation(conversation_id: int | str) -> str:
    return f"/agent/conversations/{conversation_id}"
