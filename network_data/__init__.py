"""The curated corridor network of Shudao and its loader.

>>> from network_data import load_network
>>> network = load_network()
>>> network.find_node("Duisburg")
'DEDUI'
"""

from network_data.errors import Finding, NetworkValidationError, UnknownPlaceError
from network_data.load import Network, load_network

__all__ = ["Finding", "Network", "NetworkValidationError", "UnknownPlaceError", "load_network"]
