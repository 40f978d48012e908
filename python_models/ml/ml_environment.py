"""Versions of Python and every library that can change a fit, one row per component."""

from customer_segmentation.models import environment


def model(dbt, session):
    dbt.config(materialized="table")
    return environment(session)
