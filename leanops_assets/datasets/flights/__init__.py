"""The bundled New York flights of 2013: contract.yaml, and the contracts of weather and planes."""
