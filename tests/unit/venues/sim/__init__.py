"""Tests of aegis.venues.sim."""
