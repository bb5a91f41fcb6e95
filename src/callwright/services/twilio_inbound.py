"""Twilio's incoming calls, handed to the inbound-call service (the TwilioGateway's hook)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from callwright.db.models import PhoneNumber, TelephonyAccount
from callwright.db.unit_of_work import SessionFactory
from callwright.providers.base import MediaStream
from callwright.providers.telephony.twilio_gateway import (
    InboundAnswer,
    InboundCall,
    InboundRefusal,
)
from callwright.services.inbound import Admitted, InboundCalls


@dataclass
class TwilioInbound:
    uow: SessionFactory
    calls: InboundCalls

    async def _account(self, account_sid: str, to_number: str) -> TelephonyAccount | None:
        """The live Twilio account of ours that owns ``to_number`` under ``account_sid``."""
        async with self.uow() as session:
            accounts = await session.scalars(
                select(TelephonyAccount)
                .join(PhoneNumber, PhoneNumber.telephony_account_id == TelephonyAccount.id)
                .where(
                    PhoneNumber.number == to_number,
                    PhoneNumber.deleted_at.is_(None),
                    TelephonyAccount.provider == "twilio",
                    TelephonyAccount.deleted_at.is_(None),
                )
            )
            for account in accounts:
                if account.credentials.get("account_sid") == account_sid:
                    return account
        return None

    async def auth_token(self, *, account_sid: str, to_number: str) -> str | None:
        account = await self._account(account_sid, to_number)
        return None if account is None else str(account.credentials["auth_token"])

    async def answer(self, call: InboundCall) -> InboundAnswer | InboundRefusal:
        account = await self._account(call.account_sid, call.to_number)
        if account is None:
            return "rejected"
        admitted = await self.calls.admit(
            to_number=call.to_number,
            from_number=call.from_number,
            provider_call_id=call.call_sid,
            account_id=account.id,
        )
        if not isinstance(admitted, Admitted):
            return "busy" if admitted == "busy" else "rejected"
        ready: Admitted = admitted

        async def converse(stream: MediaStream) -> None:
            await self.calls.converse(ready, stream)

        async def abandon() -> None:
            await self.calls.abandon(ready, "no media stream")

        return InboundAnswer(call_id=ready.call.id, converse=converse, abandon=abandon)
