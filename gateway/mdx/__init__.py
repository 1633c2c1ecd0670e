"""MDX: the query language Excel PivotTables and Power BI send over XMLA.

Text is parsed by a lark grammar (``grammar.lark``, ``parser.py``) into an AST (``ast.py``),
bound against the caller's pruned cube model (``bind.py``), and its cells computed through the
same engine as GraphQL, one statement per grain (``cells.py``). ``result.py`` holds the answer
the XMLA writer renders.
"""
