{#- The demo seed for the feature set's input kind. -#}
{% macro demo_seed() %}
    {{ return('demo_transactions' if feature_spec().input_kind == 'transactions' else 'demo_customers') }}
{% endmacro %}
