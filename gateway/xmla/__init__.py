"""The XMLA door (SOAP Discover/Execute over HTTP) for Excel, Power BI and other XMLA clients."""
