"""The bundled New York flights of 2013: contract.yaml (with the contracts of weather and planes),
features.py (the four columns the contract cannot declare) and source.py (the bundled year)."""
