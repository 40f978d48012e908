{#- SQL scoring (macro score_customers) of int_scoring_features against the stored fit. The
    feature list comes from the scaler table at run time, so sqlfluff cannot parse this file
    (listed in .sqlfluffignore); the macro is tested end to end instead. -#}
{{ score_customers(ref('int_scoring_features'), ref('ml_feature_scaler'), ref('ml_kmeans_fit')) }}
