"""The subscription routes' body schemas for the OpenAPI document (``make openapi``). pydantic:
imported by ``devtools/openapi.py`` only, never by a function."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from newsroom.newsletter.addresses import MAX_ADDRESS_LENGTH


class SubscriptionRequest(BaseModel):
    """What a signup sends: the address, nothing else (unknown fields are refused)."""

    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=MAX_ADDRESS_LENGTH, json_schema_extra={"format": "email"})


class OneClickUnsubscribe(BaseModel):
    """What RFC 8058 mail clients post. The API reads none of it: the token decides."""

    model_config = ConfigDict(extra="allow")
    List_Unsubscribe: Literal["One-Click"] = Field("One-Click", alias="List-Unsubscribe")


class SubscriptionAnswer(BaseModel):
    """The answer for a program (JSON): what happened, in a sentence for a person."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["accepted", "confirmed", "unsubscribed"]
    detail: str


MODELS: tuple[type[BaseModel], ...] = (SubscriptionRequest, OneClickUnsubscribe, SubscriptionAnswer)
