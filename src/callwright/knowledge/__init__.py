"""Knowledge bases: ingestion (files, URLs, FAQs → text → chunks), hybrid retrieval
(full-text + dense embeddings, fused by reciprocal rank) and grounding of a call's replies.

The port a call sees is :class:`KnowledgeLookup`; :class:`GroundedLLM` applies it.
"""

from callwright.knowledge.grounding import GroundedLLM, context_block, grounded_messages
from callwright.knowledge.port import KnowledgeLookup, Passage

__all__ = ["GroundedLLM", "KnowledgeLookup", "Passage", "context_block", "grounded_messages"]
