"""DynamicFrame as a thin wrapper of a DataFrame."""
from pyspark.sql import functions as F


class DynamicFrame:
    def __init__(self, frame, glue_ctx, name=""):
        self._frame = frame
        self.glue_ctx = glue_ctx
        self.name = name

    @classmethod
    def fromDF(cls, dataframe, glue_ctx, name):
        return cls(dataframe, glue_ctx, name)

    def toDF(self):
        return self._frame

    def count(self):
        return self._frame.count()

    def resolveChoice(self, specs=None, choice="", database=None, table_name=None, transformation_ctx="", **kwargs):
        """Only choice="match_catalog": casts the columns the catalog declares (matched case-insensitively) to
        the declared types. Spark's reader gives no choice types, so this is the whole effect here."""
        if specs or choice != "match_catalog":
            raise NotImplementedError("the stand-in resolves choices only with choice='match_catalog'")
        declared = {name.lower(): kind for name, kind in self.glue_ctx._catalog_table(database, table_name)["columns"]}
        columns = [
            F.col(f"`{name}`").cast(declared[name.lower()]).alias(name) if name.lower() in declared else F.col(f"`{name}`")
            for name in self._frame.columns
        ]
        return DynamicFrame(self._frame.select(columns), self.glue_ctx, self.name)
