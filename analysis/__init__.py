"""Honest statistics for officer attitude surveys: plain pandas, scipy and statsmodels.

This package never imports Flask or the web app. The app hands it tidy DataFrames and gets tidy
DataFrames (and Altair charts) back.

The tidy long format (one row per answer)
-----------------------------------------
========================  =====================================================================
column                    meaning
========================  =====================================================================
``response_id``           one officer's submission of one wave (random; str)
``wave``                  the wave's identifier (int)
``wave_kind``             ``"pre"``, ``"post"``, ``"followup"`` or ``"pulse"``
``followup_days``         days after training for follow-ups, else missing
``cohort``                the cohort's identifier, missing for pulses
``linkage_key``           the person key that links one officer's responses across waves, given
                          by the matcher (:mod:`analysis.matching`); missing when unlinked
``item``                  the item's stable code (``"STG01"``)
``value``                 the answer on the item's response scale (int)
========================  =====================================================================

The item metadata (one row per item): ``item``, ``construct``, ``reverse_keyed`` (bool),
``scale_min``, ``scale_max``.

Conventions, after pingouin: DataFrame in, tidy DataFrame out; snake_case columns (``n``,
``mean_diff``, ``ci_low``, ``ci_high``, ``p_val``); nothing is rounded; bad arguments raise
``ValueError``; recoverable data conditions ``warnings.warn``. Every function's docstring gives its
formula, its missing-data rule and a reference, and its tests compare it with scipy, pingouin or
statsmodels on data shipped inside those packages.
"""
