#include "providers/storage_xml.h"

#include "providers/xml_writer.h"

namespace gitdisc {

std::string DirPoolXml(std::string_view name, std::string_view target_dir) {
  XmlWriter w;
  w.Start("pool").Attr("type", "dir");
  w.Element("name", name);
  w.Start("target").Element("path", target_dir);
  w.Start("permissions").Element("mode", "0755");
  return w.Finish();
}

std::string RawVolumeXml(std::string_view name, uint64_t bytes) {
  XmlWriter w;
  w.Start("volume");
  w.Element("name", name);
  w.Start("capacity").Attr("unit", "bytes").Text(std::to_string(bytes)).End();
  w.Start("allocation").Attr("unit", "bytes").Text("0").End();
  w.Start("target");
  w.Start("format").Attr("type", "raw").End();
  w.Start("permissions").Element("mode", "0644");
  return w.Finish();
}

}  // namespace gitdisc
