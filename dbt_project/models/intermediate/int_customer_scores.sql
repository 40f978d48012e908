{#- SQL scoring (macro score_customers) of int_scoring_features against the stored fit. The
    feature list comes from the scaler table at run time, so sqlfluff cannot parse this file
    (listed in .sqlfluffignore); the macro is tested end to end instead. -#}
{#- A table, not a view: its tests and scored_customers would otherwise each re-run the scoring
    (10-18 s of a 10M-row scoring command). -#}
{{ config(materialized='table') }}
{{ score_customers(
    ref('int_scoring_features'),
    ref('ml_feature_scaler'),
    ref('ml_kmeans_fit'),
    ref('int_feature_definitions')
) }}
