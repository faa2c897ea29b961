{#- Spark's listagg takes no order: the labels are sorted as structs (negated count, text, label). -#}
{% macro spark__internal_core_top_labels(label, count, text, limit) -%}
  {{ return("array_join(slice(transform(sort_array(collect_list(struct(-" ~ count ~ " as steward_rank, " ~ text
            ~ " as steward_text, " ~ label ~ " as steward_label))), steward_item -> steward_item.steward_label), 1, "
            ~ limit ~ "), ', ')") }}
{%- endmacro %}
