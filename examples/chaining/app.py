"""MarketingCopy: prompt chaining, LLM steps and plain steps in one durable chain.

``agentdur.patterns.chaining`` runs each link as a journaled step, so a chain that crashed halfway
resumes at the first link that had not completed: the model calls already made are replayed from the
journal, never sent (or paid for) twice.

    Prepare brief (plain) -> Draft copy (LLM) -> Polish copy (LLM) -> Fit to post (plain)

    agentdur serve examples.chaining:app
    curl localhost:8080/MarketingCopy/write --json '{"product": "...", "audience": "...", "features": [...]}'

The chain's LLM links call plain ``litellm.acompletion``: the link is already the journaled step,
and a self-journaling call (``agentdur.integrations.litellm.acompletion``) inside a step would nest
one step in another.
"""

from __future__ import annotations

import os

# LiteLLM downloads a model cost map at import unless told to use its bundled copy (as
# agentdur.integrations does): no call may leave the machine, and that import can deadlock offline.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm
from pydantic import BaseModel, Field

import agentdur
from agentdur.patterns.chaining import Chain, llm_step, step

from .._model import choose_model, text_of

MAX_FEATURES = 5
MAX_CHARS = 280  # one social-media post
DISCLOSURE = " #ad"


class ProductBrief(BaseModel):
    """What marketing knows about the product."""

    product: str = Field(min_length=1)
    audience: str = Field(min_length=1)
    features: list[str] = Field(default_factory=list)


class Post(BaseModel):
    """The finished post."""

    text: str
    characters: int
    shortened: bool


async def call_model(prompt: str) -> str:
    """One model call, not journaled here: the chain link that makes it is the journaled step."""
    response = await litellm.acompletion(
        messages=[{"role": "user", "content": prompt}], max_retries=0, **choose_model().kwargs()
    )
    assert isinstance(response, litellm.ModelResponse)  # not streamed
    return text_of(response)


def prepare_brief(brief: ProductBrief) -> ProductBrief:
    """Trim and de-duplicate the features (case-insensitively), keeping the first few."""
    seen: set[str] = set()
    features = []
    for feature in (f.strip() for f in brief.features):
        if feature and feature.lower() not in seen:
            seen.add(feature.lower())
            features.append(feature)
    return brief.model_copy(update={"features": features[:MAX_FEATURES]})


def draft_prompt(brief: ProductBrief) -> str:
    features = ", ".join(brief.features) or "its best qualities"
    return f"Write marketing copy for {brief.product}, aimed at {brief.audience}. Mention: {features}."


def fit_to_post(copy: str) -> Post:
    """Cut the copy at a word boundary so that it fits one post with the ad disclosure."""
    text = " ".join(copy.split())
    room = MAX_CHARS - len(DISCLOSURE)
    shortened = len(text) > room
    if shortened:
        text = text[: room - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return Post(text=text + DISCLOSURE, characters=len(text + DISCLOSURE), shortened=shortened)


copy_chain = Chain(
    step("Prepare brief", prepare_brief),
    llm_step("Draft copy", draft_prompt, call_model),
    llm_step(
        "Polish copy", "Rewrite this copy to be concise and friendly, in two sentences: {input}", call_model
    ),
    step("Fit to post", fit_to_post),
)

marketing = agentdur.Service("MarketingCopy", description="prompt chaining: a product brief to a social post")


@marketing.handler()
async def write(ctx: agentdur.Context, brief: ProductBrief) -> Post:
    """Run the chain on ``brief``; each link is a journaled step."""
    post: Post = await copy_chain.run(ctx, brief)
    return post


app = agentdur.App([marketing])
