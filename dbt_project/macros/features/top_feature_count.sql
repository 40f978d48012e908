{#- How many top features of the margin customer_segments and SQL scoring report per customer
    (top_feature_1 .. top_feature_<n>); equals customer_segmentation.explain.TOP_FEATURES, which
    a test checks. -#}
{% macro top_feature_count() %}{{ return(3) }}{% endmacro %}
