"""Parcel channels for cross-border e-commerce: quote a parcel on express, postal, e-commerce
line and rail-parcel channels, and price a seller's day of parcels channel by channel.

:func:`quote_parcel` quotes one parcel in plain Python with its charge lines;
:func:`price_parcels` prices many on every channel with a numba kernel, and
:func:`cheapest_channels` picks per parcel the cheapest channel that meets a delivery promise.
"""

from optimizer.parcels.batch import (
    ChannelChoice,
    ParcelTable,
    batch_result,
    cheapest_channels,
    parcels_table,
    price_parcels,
)
from optimizer.parcels.model import PILOT_ZONE_CITIES, ChannelQuote, ChargeLine, Parcel
from optimizer.parcels.quote import ParcelChannels, quote_parcel

__all__ = [
    "PILOT_ZONE_CITIES",
    "ChannelChoice",
    "ChannelQuote",
    "ChargeLine",
    "Parcel",
    "ParcelChannels",
    "ParcelTable",
    "batch_result",
    "cheapest_channels",
    "parcels_table",
    "price_parcels",
    "quote_parcel",
]
