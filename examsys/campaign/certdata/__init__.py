"""Certificate data (证书数据上报): each published batch's records checked before they are reported
to the provincial platform, the frozen report and its documented xlsx/JSON export, records
returned by the platform (退回) with their reasons, return rates per organisation and city, and
the province's warning rules that raise early warnings (预警)."""
