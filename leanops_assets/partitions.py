"""The daily partitions of the project, defined once: one per local day of 2013."""

from dagster import DailyPartitionsDefinition

daily_partitions = DailyPartitionsDefinition(start_date="2013-01-01", end_date="2014-01-01")
