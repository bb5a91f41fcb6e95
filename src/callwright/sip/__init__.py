"""A small asyncio SIP user agent with RTP (RFC 3261, 3264, 3550, 4733, 2617/8760).

Public surface: :class:`UserAgent` and :class:`UaConfig` (the socket, transactions and
registration), :func:`place_call` (outbound INVITE), :class:`IncomingCall` (an INVITE
waiting for the platform to answer) and :class:`SipCall` (a connected call; a MediaStream).
"""

from callwright.sip.call import SipCall
from callwright.sip.incoming import CallGone, IncomingCall
from callwright.sip.outbound import InviteOutcome, place_call
from callwright.sip.ua import SipError, UaConfig, UserAgent

__all__ = [
    "CallGone",
    "IncomingCall",
    "InviteOutcome",
    "SipCall",
    "SipError",
    "UaConfig",
    "UserAgent",
    "place_call",
]
