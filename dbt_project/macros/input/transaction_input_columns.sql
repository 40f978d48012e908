{#-
    transaction_input_columns()

    The purchase-file columns to find, from var transaction_columns (canonical -> source
    name): customer_id, purchase_date (or recency_days when purchase_date is null), amount,
    quantity (or unit_cost when quantity is null). All are required. Each is a dict: key (the
    source column, lowercased), shown (as the user named it), required, canonical and name
    (both the canonical name: staging's <name>_raw, see raw_text_columns).
-#}
{% macro transaction_input_columns() %}
    {%- set mapping = var('transaction_columns') -%}
    {%- set wanted = [] -%}
    {%- set date_key = 'purchase_date' if mapping.get('purchase_date') else 'recency_days' -%}
    {%- set cost_key = 'quantity' if mapping.get('quantity') else 'unit_cost' -%}
    {%- for canonical in ['customer_id', date_key, 'amount', cost_key] -%}
        {%- set source = mapping.get(canonical) -%}
        {%- if not source -%}
            {{ exceptions.raise_compiler_error("var 'transaction_columns': no source column for '" ~ canonical ~ "'") }}
        {%- endif -%}
        {%- do wanted.append({
            'key': source | lower, 'shown': source, 'required': true,
            'canonical': canonical, 'name': canonical,
        }) -%}
    {%- endfor -%}
    {{ return(wanted) }}
{% endmacro %}
