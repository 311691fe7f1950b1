"""Flight software: talks to hardware only through the HAL interfaces in ``flight.hal``."""
