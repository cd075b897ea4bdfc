"""The curated corridor network of Shudao and its loader.

>>> from network_data import load_network
>>> network = load_network()
>>> network.find_node("Duisburg")
'DEDUI'
"""

from network_data.errors import NetworkValidationError, Problem, UnknownPlaceError
from network_data.load import Network, load_network

__all__ = ["Network", "NetworkValidationError", "Problem", "UnknownPlaceError", "load_network"]
