(function(){
function key(c){return c.hasAttribute('data-v')?c.getAttribute('data-v'):c.textContent.trim();}
document.querySelectorAll('table.sortable').forEach(function(t){
 var hs=t.tHead.rows[0].cells;
 Array.prototype.forEach.call(hs,function(th,i){
  th.tabIndex=0;
  function go(){
   var asc=th.getAttribute('aria-sort')!=='ascending', num=th.getAttribute('data-type')==='num';
   Array.prototype.forEach.call(hs,function(h){h.removeAttribute('aria-sort');});
   th.setAttribute('aria-sort',asc?'ascending':'descending');
   var b=t.tBodies[0], rows=Array.prototype.slice.call(b.rows);
   rows.sort(function(a,c){
    var x=key(a.cells[i]||a), y=key(c.cells[i]||c), r;
    if(num){x=parseFloat(x);y=parseFloat(y);
     if(isNaN(x)&&isNaN(y))r=0;else if(isNaN(x))return 1;else if(isNaN(y))return -1;else r=x-y;}
    else r=x.localeCompare(y,'zh');
    return asc?r:-r;});
   rows.forEach(function(r){b.appendChild(r);});
  }
  th.addEventListener('click',go);
  th.addEventListener('keydown',function(ev){if(ev.key==='Enter')go();});
 });
});
document.querySelectorAll('input.filter').forEach(function(inp){
 var t=document.getElementById(inp.getAttribute('data-table')), col=+inp.getAttribute('data-col');
 inp.addEventListener('input',function(){
  var q=inp.value.trim().toLowerCase();
  Array.prototype.forEach.call(t.tBodies[0].rows,function(r){
   var c=r.cells[col];r.hidden=!!q&&!(c&&c.textContent.toLowerCase().indexOf(q)>=0);});
 });
});
})();
